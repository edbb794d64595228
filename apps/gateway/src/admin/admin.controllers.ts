import {
  Body,
  Controller,
  Get,
  HttpCode,
  Inject,
  Param,
  Patch,
  Post,
  Query,
  Req,
  UseGuards,
} from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { DataSource } from 'typeorm';
import type { OperatorIdentity } from '@app/operators';
import { AdminGuard, CurrentOperator } from './admin.guard';
import {
  CreateOfferDto,
  CreatePartnerDto,
  CreatePublisherDto,
  PostbackUrlQueryDto,
  UpdateOfferDto,
  UpdatePartnerDto,
  UpdatePublisherDto,
} from './admin.dto';
import { CatalogAdminService } from './catalog-admin.service';
import { partnerPostbackUrl, publicBaseUrl } from './partner-formats';

@ApiTags('admin')
@ApiBearerAuth()
@UseGuards(AdminGuard)
@Controller('v1/admin/offers')
export class OffersAdminController {
  constructor(@Inject(CatalogAdminService) private readonly admin: CatalogAdminService) {}

  @ApiResponse({ status: 201, description: 'The offer as stored' })
  @Post()
  @ApiOperation({ summary: 'Create an offer (409 if the id exists)' })
  create(@Body() dto: CreateOfferDto, @CurrentOperator() op: OperatorIdentity) {
    return this.admin.createOffer(dto, op);
  }
  @ApiResponse({ status: 200, description: 'Every offer' })
  @Get()
  list() {
    return this.admin.list('offer');
  }
  @ApiResponse({ status: 200, description: 'The offer' })
  @Get(':id')
  get(@Param('id') id: string) {
    return this.admin.get('offer', id);
  }
  @ApiResponse({ status: 200, description: 'The offer as stored' })
  @Patch(':id')
  @ApiOperation({ summary: 'Change some fields of an offer' })
  update(@Param('id') id: string, @Body() dto: UpdateOfferDto, @CurrentOperator() op: OperatorIdentity) {
    return this.admin.updateOffer(id, dto, op);
  }
  @ApiResponse({ status: 200, description: 'The offer, paused' })
  @Post(':id/pause')
  @HttpCode(200)
  @ApiOperation({ summary: 'Pause: clicks answer 404 until resumed' })
  pause(@Param('id') id: string, @CurrentOperator() op: OperatorIdentity) {
    return this.admin.setStatus('offer', id, 'paused', op);
  }
  @ApiResponse({ status: 200, description: 'The offer, active again' })
  @Post(':id/resume')
  @HttpCode(200)
  resume(@Param('id') id: string, @CurrentOperator() op: OperatorIdentity) {
    return this.admin.setStatus('offer', id, 'active', op);
  }
}

@ApiTags('admin')
@ApiBearerAuth()
@UseGuards(AdminGuard)
@Controller('v1/admin/publishers')
export class PublishersAdminController {
  constructor(@Inject(CatalogAdminService) private readonly admin: CatalogAdminService) {}

  @ApiResponse({ status: 201, description: 'The publisher as stored' })
  @Post()
  create(@Body() dto: CreatePublisherDto, @CurrentOperator() op: OperatorIdentity) {
    return this.admin.createPublisher(dto, op);
  }
  @ApiResponse({ status: 200, description: 'Every publisher' })
  @Get()
  list() {
    return this.admin.list('publisher');
  }
  @ApiResponse({ status: 200, description: 'The publisher' })
  @Get(':id')
  get(@Param('id') id: string) {
    return this.admin.get('publisher', id);
  }
  @ApiResponse({ status: 200, description: 'The publisher as stored' })
  @Patch(':id')
  update(@Param('id') id: string, @Body() dto: UpdatePublisherDto, @CurrentOperator() op: OperatorIdentity) {
    return this.admin.updatePublisher(id, dto, op);
  }
  @ApiResponse({ status: 200, description: 'The publisher, paused' })
  @Post(':id/pause')
  @HttpCode(200)
  pause(@Param('id') id: string, @CurrentOperator() op: OperatorIdentity) {
    return this.admin.setStatus('publisher', id, 'paused', op);
  }
  @ApiResponse({ status: 200, description: 'The publisher, active again' })
  @Post(':id/resume')
  @HttpCode(200)
  resume(@Param('id') id: string, @CurrentOperator() op: OperatorIdentity) {
    return this.admin.setStatus('publisher', id, 'active', op);
  }
}

@ApiTags('admin')
@ApiBearerAuth()
@UseGuards(AdminGuard)
@Controller('v1/admin/partners')
export class PartnersAdminController {
  constructor(
    @Inject(CatalogAdminService) private readonly admin: CatalogAdminService,
    @Inject(DataSource) private readonly ds: DataSource,
  ) {}

  @ApiResponse({
    status: 201,
    description: 'The partner as stored (secrets and tokens never shown: only how many are set)',
  })
  @Post()
  @ApiOperation({ summary: 'Create a partner; secrets and tokens are write-only' })
  create(@Body() dto: CreatePartnerDto, @CurrentOperator() op: OperatorIdentity) {
    return this.admin.createPartner(dto, op);
  }
  @ApiResponse({ status: 200, description: 'Every partner (secrets and tokens never shown)' })
  @Get()
  list() {
    return this.admin.list('partner');
  }
  @ApiResponse({ status: 200, description: 'The partner (secrets and tokens never shown)' })
  @Get(':id')
  get(@Param('id') id: string) {
    return this.admin.get('partner', id);
  }
  @ApiResponse({
    status: 200,
    description: '{"url", ...}: the URL with the platform macros and what the partner must add for its auth',
  })
  @Get(':id/postback-url')
  @ApiOperation({
    summary:
      "The postback URL to give the partner, in its platform's macro syntax, with what its auth needs (?base_url= overrides this gateway's address)",
  })
  postbackUrl(@Param('id') id: string, @Req() req: FastifyRequest, @Query() q: PostbackUrlQueryDto) {
    return partnerPostbackUrl(this.ds, id, publicBaseUrl(req, q.base_url));
  }
  @ApiResponse({ status: 200, description: 'The partner as stored (secrets and tokens never shown)' })
  @Patch(':id')
  @ApiOperation({
    summary: 'Change fields; auth replaces the whole auth block (rotation: send both secrets)',
  })
  update(@Param('id') id: string, @Body() dto: UpdatePartnerDto, @CurrentOperator() op: OperatorIdentity) {
    return this.admin.updatePartner(id, dto, op);
  }
  @ApiResponse({ status: 200, description: 'The partner, paused' })
  @Post(':id/pause')
  @HttpCode(200)
  @ApiOperation({ summary: 'Pause: postbacks answer 403 until resumed' })
  pause(@Param('id') id: string, @CurrentOperator() op: OperatorIdentity) {
    return this.admin.setStatus('partner', id, 'paused', op);
  }
  @ApiResponse({ status: 200, description: 'The partner, active again' })
  @Post(':id/resume')
  @HttpCode(200)
  resume(@Param('id') id: string, @CurrentOperator() op: OperatorIdentity) {
    return this.admin.setStatus('partner', id, 'active', op);
  }
}
