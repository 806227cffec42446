// Behavioural SPI NOR flash for the hwssm board simulation (not synthesizable).
// Mode 0 (SCK idle low; data in on the rising edge, out after the falling edge).
// Commands: 0xAB release from deep power-down (tRES1 = WAKE_NS before the next command is
// accepted), 0x03 READ (24-bit address, MSB first; data until CS rises).
// It starts in deep power-down (POWERED_DOWN=1): every command but 0xAB is ignored and MISO
// stays high, as a flash that the FPGA's configuration logic put to sleep.
// The image (IMAGE, $readmemh bytes) lies at byte address OFFSET; other addresses read 0xFF.
// Counters: n_wake (0xAB commands), n_read (READ commands), early (commands before tRES1).
`timescale 1ns/1ps
module hwssm_flash_model #(
    parameter IMAGE = "flash.hex",
    parameter integer SIZE = 1,
    parameter integer OFFSET = 0,
    parameter integer WAKE_NS = 3000,
    parameter integer POWERED_DOWN = 1
) (
    input wire cs_n,
    input wire sck,
    input wire mosi,
    output reg miso
);
    reg [7:0] mem [0:SIZE-1];
    reg [7:0] cmd;
    reg [31:0] sr;
    reg [23:0] addr;
    reg [7:0] out;
    integer nbits;
    integer n_wake;
    integer n_read;
    integer early;
    reg asleep;
    realtime awake_at;

    initial begin
        $readmemh(IMAGE, mem);
        miso = 1'b1;
        nbits = 0;
        n_wake = 0;
        n_read = 0;
        early = 0;
        asleep = POWERED_DOWN != 0;
        awake_at = 0;
        cmd = 8'h00;
    end

    always @(negedge cs_n) begin
        nbits = 0;
        cmd = 8'h00;
        if (!asleep && $realtime < awake_at) early = early + 1;
    end

    always @(posedge cs_n) begin
        if (nbits == 8 && cmd == 8'hAB) begin
            asleep = 1'b0;
            awake_at = $realtime + WAKE_NS;
            n_wake = n_wake + 1;
        end
        miso = 1'b1;
    end

    always @(posedge sck) if (!cs_n) begin
        sr = {sr[30:0], mosi};
        nbits = nbits + 1;
        if (nbits == 8) cmd = sr[7:0];
        if (nbits == 32 && cmd == 8'h03 && !asleep) begin
            addr = sr[23:0];
            n_read = n_read + 1;
        end
    end

    function [7:0] byte_at(input [23:0] a);
        byte_at = (a >= OFFSET && a < OFFSET + SIZE) ? mem[a - OFFSET] : 8'hFF;
    endfunction

    always @(negedge sck) if (!cs_n && !asleep && cmd == 8'h03 && nbits >= 32) begin
        if ((nbits - 32) % 8 == 0) begin
            out = byte_at(addr);
            addr = addr + 1;
        end
        miso = out[7 - (nbits - 32) % 8];
    end
endmodule
